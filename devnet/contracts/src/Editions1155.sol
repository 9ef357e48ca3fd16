// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Editions1155
/// @notice A creator's ERC-1155 editions: owner mints plus per-id open editions sold at a fixed price.
contract Editions1155 is ERC1155, ERC2981, Ownable {
    /// @notice Receives public-mint proceeds directly, so no withdraw step is needed.
    address public immutable creator;
    /// @notice Price per unit of a public edition mint; 0 = not for public sale.
    mapping(uint256 id => uint256) public editionPrice;

    event EditionPriceSet(uint256 indexed id, uint256 price);

    error ZeroAmount();
    error NotForSale(uint256 id);
    error IncorrectPayment(uint256 sent, uint256 required);
    error EthTransferFailed();

    constructor(string memory uri_, address creator_, uint96 royaltyBps) ERC1155(uri_) Ownable(creator_) {
        creator = creator_;
        _setDefaultRoyalty(creator_, royaltyBps);
    }

    function ownerMint(address to, uint256 id, uint256 amount) external onlyOwner {
        if (amount == 0) revert ZeroAmount();
        _mint(to, id, amount, "");
    }

    function setEditionPrice(uint256 id, uint256 price) external onlyOwner {
        editionPrice[id] = price;
        emit EditionPriceSet(id, price);
    }

    function mintEdition(uint256 id, uint256 amount) external payable {
        if (amount == 0) revert ZeroAmount();
        uint256 price = editionPrice[id];
        if (price == 0) revert NotForSale(id);
        uint256 required = price * amount;
        if (msg.value != required) revert IncorrectPayment(msg.value, required);
        _mint(msg.sender, id, amount, "");
        (bool ok,) = creator.call{value: msg.value}("");
        if (!ok) revert EthTransferFailed();
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
